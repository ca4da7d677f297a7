// Page behaviour that templates declare with data- attributes: the Content-Security-Policy allows no inline
// script or event-handler attribute, so this file is the only script besides htmx.
//   <button data-scope="all">       sets the form's hidden "scope" field to "all" before it submits
//   <button data-confirm="…">       asks first; cancelling stops the submit
//   <form data-confirm="…">         asks before the form submits
//   <input type="checkbox" data-select-all="ids">  checks or clears every input[name=ids] of its form
"use strict";

document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-scope], [data-confirm]:not(form)");
  if (!button) return;
  if (button.dataset.scope && button.form && button.form.elements.scope) {
    button.form.elements.scope.value = button.dataset.scope;
  }
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("change", function (event) {
  const box = event.target;
  if (!box.dataset || !box.dataset.selectAll) return;
  const form = box.closest("form");
  if (!form) return;
  for (const other of form.querySelectorAll('input[name="' + box.dataset.selectAll + '"]')) {
    other.checked = box.checked;
  }
});
