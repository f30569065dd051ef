// Package incident is Tresor's domain: incidents a worker flags, the
// four-eyes requests that guard securing, handover and destruction of
// evidence, the deletion walkthrough, and the workflow [Service] that moves
// an incident from flag to closed.
//
// # Guarantees
//
// The Service enforces these rules on every path, whatever adapter calls it:
//
//   - Every state change and its audit entry are written in one store
//     transaction ([Store.Tx]): a failure anywhere leaves neither.
//   - A request is never approved by its requester ([ErrSelfApproval]), by
//     someone without the supervisor role ([ErrNotSupervisor]), after it
//     expired ([ErrExpired]) or twice by the same person; every decision
//     carries a reason, and one rejection ends the request.
//   - Nothing is revoked or deleted on WhatsApp before the incident is
//     secured in the vault, or before a decision not to secure it was
//     recorded ([ErrNotSecured]).
//   - Workers see only their own incidents; asking for another's gives
//     [ErrNotFound], so existence does not leak.
//   - Asynchronous steps run as durable jobs: a job's effect and its
//     completion commit together, so a crash in the middle repeats the job
//     rather than losing or doubling its effect.
//   - A job that fails with an error wrapping [ErrPermanent] is not
//     retried: it ends as dead with its audit entry in one transaction,
//     and a secure job that ends so hands its incident back to the
//     reporter ([GapLost]).
//   - An incident whose message the messenger did not capture
//     ([CaptureGap]) is never secured before its reporter chose what to
//     secure ([UncapturedChoice]); "not securable" needs a reason and
//     the category's approval, and its text never enters the audit log.
//   - No bundle outlives a crash unaccounted for: every bundle the workflow
//     seals is announced ([BundleIntent]) in a committed transaction before
//     the vault publishes it, and marked committed in the transaction that
//     records its receipt. [Service.SweepOrphans] (run by [Service.Work])
//     destroys the bundles of announcements left pending past the grace
//     period, each with an audit entry; bundles the storage's retention
//     protects stay marked as orphans until it ends. Bundles without an
//     announcement (sealed outside the workflow) are never touched.
//   - Notifications are jobs queued in the transaction of the change they
//     tell about, each sent or recorded as not sent with an audit entry
//     of ids only. A mail is composed from a fixed text per [Notice] and a
//     link, so no text of an incident or request can reach it.
//   - An account request ([AccountRequest]) nobody decides in time is
//     expired by [Service.SweepAccountRequests] (run by [Service.Work])
//     or by the late decision that finds it, through one path: its state,
//     its audit entry and the notice to its requester commit together.
//

// Evidence content never passes through this package's types except as a
// stream handed from the [Messenger] to the [Vault]; incidents, requests and
// audit entries hold metadata and hashes only.
//
// # Ports
//
// The package owns its ports and imports no adapter: [Store] (persistence,
// implemented in incident/sqlstore and checked by incident/storetest),
// [Vault] (the evidence vault), [Messenger] (WhatsApp), [Mailer] (SMTP in
// incident/smtpmail, in memory in incident/mailtest) and the clock and
// randomness given as [Option]s. Sessions, API tokens and second factors
// belong to package account; a transaction hands its account store to the
// code that runs in it ([Tx.Accounts]), so that an account change and its
// audit entry commit together. Step-up codes are checked here, by
// [Service.Decide], with the account package's [account.Factors]
// ([WithFactors]). The identity provider is asked about signed-in people
// through [ProviderChecker] (internal/oidcrp), with their refresh tokens
// sealed by an [account.Sealer] ([WithTokenSealer]).
// ([WithFactors]); where the policy says oidc.step_up: provider, a fresh
// sign-in at the identity provider can serve instead, judged by
// [Service.ConfirmStepUpExternal] and used once by the next decision.
package incident
