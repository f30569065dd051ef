package web

// Form structs: what each page posts. Domain types carry no tags; these do.

type loginForm struct {
	Username string `form:"username"`
	Password string `form:"password"`
}

type codeForm struct {
	Code string `form:"code"`
}

type enrollForm struct {
	Sealed string `form:"sealed"`
	Code   string `form:"code"`
}

type languageForm struct {
	Lang string `form:"lang"`
	Next string `form:"next"`
}

type flagForm struct {
	Category    string `form:"category"`
	Description string `form:"description"`
	Platform    string `form:"platform"`
	MessageID   string `form:"message_id"`
	FileSHA256  string `form:"file_sha256"`
	MediaType   string `form:"media_type"`
	// The message as the worker sees it in WhatsApp (no linked device).
	SeenChat   string `form:"chat_name"`
	ReceivedAt string `form:"received_at"` // datetime-local, in the provider's zone
	Kind       string `form:"kind"`
}

type submitForm struct {
	Category    string `form:"category"`
	Description string `form:"description"`
	Platform    string `form:"platform"`
	// Choice and Reason: the worker's choice for an uncaptured message.
	Choice string `form:"choice"`
	Reason string `form:"reason"`
}

type reasonForm struct {
	Reason string `form:"reason"`
}

type releaseForm struct {
	Purpose    string `form:"purpose"`
	Recipient  string `form:"recipient"`
	LegalBasis string `form:"legal_basis"`
	Reason     string `form:"reason"`
}

type decideForm struct {
	Decision string `form:"decision"` // "approve" or "reject"
	Reason   string `form:"reason"`
	Code     string `form:"code"`
	Page     string `form:"page"` // the page the form is on, to show it again after a wrong code
}

type downloadForm struct {
	Token string `form:"token"`
}

type handoverForm struct {
	Note string `form:"note"`
}

type exportForm struct {
	Incident string `form:"incident"`
	From     string `form:"from"`
	To       string `form:"to"`
	Format   string `form:"format"`
}

type userForm struct {
	Username    string `form:"username"`
	DisplayName string `form:"display_name"`
	Role        string `form:"role"`
	Password    string `form:"password"`
	Email       string `form:"email"`
}

type emailForm struct {
	Email string `form:"email"`
}

type disableForm struct {
	Disabled string `form:"disabled"`
}

type holdForm struct {
	Hold   string `form:"hold"` // "true" sets, "false" lifts
	Reason string `form:"reason"`
}

type roleForm struct {
	Role string `form:"role"`
}

type tokenForm struct {
	Name string `form:"name"`
	Days string `form:"days"`
}

type consentForm struct {
	Consent string `form:"consent"` // "yes" when the worker ticked the box
}

type pairForm struct {
	Phone string `form:"phone"`
}

type unlinkForm struct {
	Confirm string `form:"confirm"` // "yes" when the worker ticked the box
}

type pickForm struct {
	Recent string `form:"recent"` // a recent captured message's id, or ""
}

type passwordForm struct {
	Current string `form:"current"`
	New     string `form:"new"`
	Confirm string `form:"confirm"`
}

type accountDecideForm struct {
	Decision string `form:"decision"` // "approve" or "reject"
	Reason   string `form:"reason"`
	Code     string `form:"code"`
}
