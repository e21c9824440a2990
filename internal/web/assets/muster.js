// The muster's print button: the browser's own print, the page's print
// style keeping the lists and the unaccounted.
document.addEventListener("click", (e) => {
  if (e.target.closest("[data-print]")) window.print();
});
