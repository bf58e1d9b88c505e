// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) event.preventDefault();
});

// Phone width: the menu folds behind a "Menu" button (without this script it stays open).
const menuToggle = document.querySelector(".menu-toggle");
if (menuToggle) {
  const topbar = menuToggle.closest(".topbar");
  topbar.classList.add("menu-collapsible");
  menuToggle.addEventListener("click", () => {
    const open = topbar.classList.toggle("menu-open");
    menuToggle.setAttribute("aria-expanded", String(open));
  });
}
