// The upload page (seed 3.5): a file over the limit is caught before it is sent, so the member
// does not wait for a 10 MB upload to be refused, and keeps what they typed. The server checks
// the size anyway; without JavaScript its answer is the same message on the same form.
(function () {
  "use strict";
  var input = document.getElementById("document");
  var note = document.getElementById("document-size-error");
  if (!input || !note || !input.dataset.maxBytes) {
    return;
  }
  var limit = Number(input.dataset.maxBytes);

  function tooLarge() {
    return input.files.length > 0 && input.files[0].size > limit;
  }

  function show(refused) {
    note.hidden = !refused;
    if (refused) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
    }
  }

  input.addEventListener("change", function () { show(tooLarge()); });
  input.form.addEventListener("submit", function (event) {
    if (tooLarge()) {
      event.preventDefault();
      show(true);
      input.focus();
    }
  });
})();
