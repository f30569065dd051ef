package smtpmail

import (
	"errors"
	"net/textproto"
	"strconv"
	"strings"
)

// replyError is the SMTP server's answer refusing one stage of sending.
// Its text keeps the server's words for whoever reads the error, but
// those often repeat the recipient's address ("550 5.1.1 <…>: Recipient
// address rejected"), so for log lines and the job's last error
// (incident.ErrorClass) it reports only the stage and the reply code.
type replyError struct {
	stage string // ehlo, auth, mail, rcpt, data, data_end
	err   error
}

func (e *replyError) Error() string {
	return "SMTP " + strings.ToUpper(e.stage) + ": " + e.err.Error()
}

func (e *replyError) Unwrap() error { return e.err }

// ErrorClass is smtp_<stage>_<reply code>, the code 0 when the server's
// answer was not a reply (a broken connection).
func (e *replyError) ErrorClass() string {
	code := 0
	var tp *textproto.Error
	if errors.As(e.err, &tp) {
		code = tp.Code
	}
	return "smtp_" + e.stage + "_" + strconv.Itoa(code)
}
