// Linking page: swaps in each new QR code as the server pushes it
// (Server-Sent Events) and reloads the page for the outcome, which the
// server renders. Without JavaScript the page reloads itself instead.
(function () {
  'use strict';
  var box = document.getElementById('wa-link');
  if (!box || !window.EventSource) {
    return;
  }
  var url = box.getAttribute('data-events');
  var img = document.getElementById('wa-qr');
  var waiting = document.getElementById('wa-waiting');
  if (!url || !img) {
    return;
  }
  var events = new EventSource(url);
  events.addEventListener('code', function (e) {
    if (e.data.indexOf('data:image/png;base64,') !== 0) {
      return;
    }
    img.src = e.data;
    img.hidden = false;
    if (waiting) {
      waiting.hidden = true;
    }
  });
  function finish() {
    events.close();
    window.location.assign(window.location.pathname);
  }
  ['success', 'timeout', 'unreachable', 'error', 'idle'].forEach(function (name) {
    events.addEventListener(name, finish);
  });
}());
