// Deal form enhancements: customer type-ahead and adding/removing line and contact rows.
// Without this script the form still works: three line rows, and a typed customer name
// becomes a new customer. Its words come from the page (#deal-form-text), in the page's language.
(() => {
  "use strict";

  const textBlock = document.getElementById("deal-form-text");
  const text = textBlock ? JSON.parse(textBlock.textContent) : {};
  // "Line {num}" + {num: 2} -> "Line 2"
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (whole, key) =>
      key in values ? String(values[key]) : whole,
    );

  const style = document.createElement("style");
  style.textContent =
    ".customer-search{position:relative}" +
    "#customer-options{position:absolute;z-index:10;left:0;right:0;margin:-.6rem 0 0;padding:0;" +
    "list-style:none;background:#fff;border:1px solid #9aa5b1;border-radius:4px;max-height:16rem;overflow-y:auto}" +
    "#customer-options li{padding:.45rem .6rem;cursor:pointer}" +
    "#customer-options li small{color:#616e7c}" +
    "#customer-options li[aria-selected=true],#customer-options li:hover{background:#e3f2fd}" +
    ".deal-row{border-style:dashed}";
  document.head.appendChild(style);

  // --- customer type-ahead (ARIA combobox with a listbox) ---
  const box = document.querySelector("[data-customer-search]");
  if (box) {
    const input = box.querySelector("input[role=combobox]");
    const list = box.querySelector("[role=listbox]");
    const picked = box.querySelector("#customer-picked");
    const hidden = document.getElementById("customer_id");
    const newCustomer = document.querySelector("[data-new-customer]");
    const url = box.dataset.searchUrl;
    let options = [];
    let active = -1;
    let timer = null;
    let request = 0;

    const setNewCustomer = (on) => {
      newCustomer.disabled = !on;
      newCustomer.hidden = !on;
    };
    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const highlight = (index) => {
      const items = list.querySelectorAll("[role=option]");
      items.forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    const pick = (index) => {
      const customer = options[index];
      if (!customer) return;
      input.value = customer.name;
      hidden.value = String(customer.id);
      picked.textContent =
        fill(text.picked, { name: customer.name }) + (customer.region ? " · " + customer.region : "");
      setNewCustomer(false);
      close();
    };
    const show = (customers) => {
      options = customers;
      list.replaceChildren();
      customers.forEach((customer, i) => {
        const li = document.createElement("li");
        li.id = "customer-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.append(customer.name);
        const extra = [customer.region, customer.industry, customer.coverage].filter(Boolean);
        if (extra.length) {
          const small = document.createElement("small");
          small.textContent = " · " + extra.join(" · ");
          li.append(small);
        }
        // mousedown, not click: it comes before the input's blur closes the list.
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(i);
        });
        list.append(li);
      });
      picked.textContent = customers.length
        ? fill(customers.length === 1 ? text.matches_one : text.matches_other, {
            num: customers.length,
          })
        : text.no_match || "";
      if (customers.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        active = -1;
      } else {
        close();
      }
    };
    const search = async () => {
      const q = input.value.trim();
      const mine = ++request;
      if (q.length < 2) {
        show([]);
        picked.textContent = "";
        return;
      }
      try {
        const response = await fetch(url + "?q=" + encodeURIComponent(q), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok || mine !== request) return;
        const body = await response.json();
        if (mine === request) show(body.customers || []);
      } catch (error) {
        close(); // offline or logged out: the new-customer fieldset still works
      }
    };

    input.addEventListener("input", () => {
      // Typing again means no customer is picked any more.
      hidden.value = "";
      setNewCustomer(true);
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden && options.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) return search();
        highlight(active + 1 < options.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active > 0 ? active - 1 : options.length - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault(); // pick, do not submit the form
        pick(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  // --- repeating rows: lines and contacts ---
  const renumber = (container) => {
    const kind = container.dataset.rows;
    const pattern = new RegExp("^" + kind + "-\\d+-");
    container.querySelectorAll("[data-row]").forEach((row, index) => {
      const prefix = kind + "-" + index + "-";
      row.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach((el) => {
        for (const attr of ["name", "id", "for", "aria-describedby"]) {
          const value = el.getAttribute(attr);
          if (value && pattern.test(value)) el.setAttribute(attr, value.replace(pattern, prefix));
        }
      });
      const words = text[kind] || {};
      const legend = row.querySelector("legend");
      if (legend && words.legend) legend.textContent = fill(words.legend, { num: index + 1 });
      const remove = row.querySelector("[data-remove-row]");
      if (remove && words.remove) remove.textContent = fill(words.remove, { num: index + 1 });
    });
  };
  const clearRow = (row) => {
    row.querySelectorAll("input, textarea").forEach((el) => {
      el.value = "";
      el.removeAttribute("value");
    });
    row.querySelectorAll("select").forEach((el) => {
      el.selectedIndex = 0;
      el.querySelectorAll("option[selected]").forEach((o) => o.removeAttribute("selected"));
    });
    row.querySelectorAll(".error").forEach((el) => el.remove());
    row.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
    row.querySelectorAll("[aria-invalid]").forEach((el) => el.setAttribute("aria-invalid", "false"));
    row.querySelectorAll("[aria-describedby]").forEach((el) => el.removeAttribute("aria-describedby"));
  };

  document.querySelectorAll("[data-rows]").forEach((container) => {
    const add = container.querySelector("[data-add-row]");
    add.hidden = false;
    container.querySelectorAll("[data-remove-row]").forEach((button) => (button.hidden = false));

    add.addEventListener("click", () => {
      const rows = container.querySelectorAll("[data-row]");
      const last = rows[rows.length - 1];
      const row = last.cloneNode(true);
      clearRow(row);
      last.after(row);
      renumber(container);
      const first = row.querySelector("select, input");
      if (first) first.focus();
    });
    container.addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove-row]");
      if (!button) return;
      const rows = container.querySelectorAll("[data-row]");
      const row = button.closest("[data-row]");
      if (rows.length === 1) {
        clearRow(row); // keep one row to type into
      } else {
        row.remove();
        renumber(container);
      }
      add.focus();
    });
  });
})();
