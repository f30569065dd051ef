package web

import (
	"net/http"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// TestRestoredDeviceMustBeLinkedAgain: after 'tresor restore' a device's
// old keys are gone and its state is relink; the admin's device list and
// the worker's page say to link it again, and the worker can.
func TestRestoredDeviceMustBeLinkedAgain(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	e.wa.setDevice(DeviceView{WorkerID: e.users["wanda"].ID, Status: incident.DeviceRelink, Detail: incident.RelinkDetail})
	w := e.as("adam").get("/admin/devices")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "wanda", "Neu verknüpfen (aus Sicherung wiederhergestellt)", "restored from a backup")
	w = e.as("wanda").get("/whatsapp")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Neu verknüpfen (aus Sicherung wiederhergestellt)", "Verknüpfen Sie Ihr Telefon neu", `name="consent"`)
}
