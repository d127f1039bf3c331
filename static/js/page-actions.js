// Small page actions without inline handlers, which the Content-Security-Policy forbids:
// <form data-confirm="Question?"> asks before it submits; <a data-print> prints the page.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
}, true);
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("[data-print]");
  if (link) {
    event.preventDefault();
    window.print();
  }
});
