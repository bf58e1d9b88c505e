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

// A form that takes a while (an Excel import): say what is happening and for how long, and
// keep a second click from sending it twice. The page stays until the answer arrives.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.busy || event.defaultPrevented) return;
  const status = form.querySelector(".busy");
  form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  if (!status) return;
  const started = Date.now();
  status.textContent = "";
  const bar = document.createElement("progress");  // no value: working, length unknown
  const text = document.createElement("span");
  const elapsed = document.createElement("span");
  elapsed.className = "muted";
  text.textContent = form.dataset.busy + " ";
  status.append(bar, " ", text, elapsed);
  const tick = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    elapsed.textContent = form.dataset.busyElapsed.replace("{seconds}", String(seconds));
  };
  tick();
  window.setInterval(tick, 1000);
});
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;  // back to a page kept in memory: it can be sent again
  document.querySelectorAll("form[data-busy] button[type=submit]").forEach((button) => {
    button.disabled = false;
  });
  document.querySelectorAll("form[data-busy] .busy").forEach((status) => { status.textContent = ""; });
});
