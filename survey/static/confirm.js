// Ask before sending a form marked data-confirm (deleting a section or question, revoking an
// invitation): one stray tap must not undo a designer's work. Without script the form is sent
// as it is, and the server's own rules (nothing with answers is deleted) still hold.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
