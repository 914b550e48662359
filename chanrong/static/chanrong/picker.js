/* 产融通 — search-as-you-type pickers (chanrong/core/pickers.py renders them).
 * Without this file a picker is a plain text input of codes, which the server accepts.
 * With it: the input searches (htmx fetches the matches into .picker__results), picked
 * rows become chips holding a hidden input of the same name, and the keyboard works:
 * ↓/↑ move through the matches, Enter picks, Esc closes, Backspace in an empty box
 * removes the last chip. */
(function () {
  "use strict";

  function chipsOf(picker) { return picker.querySelector(".picker__chips"); }
  function inputOf(picker) { return picker.querySelector(".picker__input"); }
  function resultsOf(picker) { return picker.querySelector(".picker__results"); }

  function keys(picker) {
    return Array.prototype.map.call(
      chipsOf(picker).querySelectorAll(".picker__chip"), function (c) { return c.dataset.key; });
  }

  function decorate(picker, chip) {
    var input = inputOf(picker);
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    hidden.value = chip.dataset.key;
    chip.appendChild(hidden);
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "picker__remove";
    remove.textContent = "×";
    var label = chip.querySelector(".picker__label");
    remove.setAttribute("aria-label", picker.dataset.removeLabel + " " + (label ? label.textContent : ""));
    chip.appendChild(remove);
  }

  function close(picker) {
    var results = resultsOf(picker);
    results.hidden = true;
    results.innerHTML = "";
    var input = inputOf(picker);
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pick(picker, option) {
    var key = option.dataset.key;
    var list = chipsOf(picker);
    if (!picker.hasAttribute("data-multiple")) {
      list.innerHTML = "";
    }
    if (keys(picker).indexOf(key) === -1) {
      var chip = document.createElement("li");
      chip.className = "picker__chip";
      chip.dataset.key = key;
      var label = document.createElement("span");
      label.className = "picker__label";
      label.textContent = option.dataset.label;
      var detail = document.createElement("span");
      detail.className = "picker__detail";
      detail.textContent = option.dataset.detail;
      chip.appendChild(label);
      chip.appendChild(document.createTextNode(" "));
      chip.appendChild(detail);
      list.appendChild(chip);
      decorate(picker, chip);
    }
    var input = inputOf(picker);
    input.value = "";
    close(picker);
    input.focus();
  }

  function options(picker) { return resultsOf(picker).querySelectorAll("[role=option]"); }

  function move(picker, step) {
    var all = options(picker);
    if (!all.length) { return; }
    var index = -1;
    all.forEach(function (o, i) { if (o.getAttribute("aria-selected") === "true") { index = i; } });
    index = (index + step + all.length) % all.length;
    all.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    inputOf(picker).setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function init(picker) {
    if (picker.dataset.pickerReady) { return; }
    picker.dataset.pickerReady = "1";
    var input = inputOf(picker);
    chipsOf(picker).querySelectorAll(".picker__chip").forEach(function (chip) { decorate(picker, chip); });
    // The plain input listed the picked keys: they are chips now; what was
    // typed and not recognised stays for the user to see and correct.
    input.value = input.dataset.leftover || "";
    input.placeholder = picker.dataset.placeholder || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", resultsOf(picker).id);

    input.addEventListener("keydown", function (event) {
      var open = !resultsOf(picker).hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (open) { event.preventDefault(); move(picker, event.key === "ArrowDown" ? 1 : -1); }
      } else if (event.key === "Enter") {
        var active = resultsOf(picker).querySelector("[role=option][aria-selected=true]");
        var all = options(picker);
        if (open && !active && all.length === 1) { active = all[0]; }
        if (open && active) { event.preventDefault(); pick(picker, active); }
        else if (open && all.length) { event.preventDefault(); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(picker); }
      } else if (event.key === "Backspace" && input.value === "") {
        var chips = chipsOf(picker).querySelectorAll(".picker__chip");
        if (chips.length) { chips[chips.length - 1].remove(); }
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(function () { if (!picker.contains(document.activeElement)) { close(picker); } }, 150);
    });
    // mousedown, not click: picking must happen before the input's blur closes the list.
    resultsOf(picker).addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { event.preventDefault(); pick(picker, option); }
    });
    chipsOf(picker).addEventListener("click", function (event) {
      var button = event.target.closest(".picker__remove");
      if (button) {
        button.closest(".picker__chip").remove();
        input.focus();
      }
    });
  }

  function initAll(root) {
    if (!window.htmx) { return; }  // no htmx: stay the plain input the server accepts
    root.querySelectorAll("[data-picker]").forEach(init);
  }

  document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("picker__results")) {
      var picker = target.closest("[data-picker]");
      var input = inputOf(picker);
      target.hidden = target.innerHTML.trim() === "" || input.value.trim() === "";
      input.setAttribute("aria-expanded", target.hidden ? "false" : "true");
      input.removeAttribute("aria-activedescendant");
    } else if (target.querySelectorAll) {
      initAll(target);
    }
  });
})();
