// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) event.preventDefault();
});
