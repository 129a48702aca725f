// The submission's one form (templates/submissions/edit.html): its saved state says "Not saved
// yet" as soon as a field changes, until a Save button sends the whole form.
(function () {
  "use strict";
  var form = document.querySelector("[data-draft-form]");
  if (!form) return;
  var dirty = false;

  function markDirty(event) {
    if (event.target.type === "file" && !event.target.value) return;
    if (dirty) return;
    dirty = true;
    document.querySelectorAll("[data-save-state]").forEach(function (state) {
      state.textContent = state.dataset.unsavedText;
      state.classList.add("unsaved");
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.form === form) markDirty(event);
  });
  document.addEventListener("change", function (event) {
    if (event.target.form === form) markDirty(event);
  });
})();
