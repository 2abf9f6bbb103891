// Progressive enhancement only: every page works the same without JavaScript.

// The moment a referrer ticks a concern that means immediate danger, tell them to phone now.
// Without JavaScript the same message comes when they continue.
const warning = document.querySelector("[data-phone-now]");
if (warning) {
  const boxes = document.querySelectorAll("input[data-immediate]");
  const update = () => {
    const wasHidden = warning.hidden;
    warning.hidden = !Array.from(boxes).some((box) => box.checked);
    // A box low on a long page: bring the warning (above the list) into view, or it goes unseen.
    // Focus stays on the box, and screen readers hear it through role="alert".
    if (wasHidden && !warning.hidden) {
      warning.scrollIntoView({ block: "nearest" });
    }
  };
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
}

// Radios and checkboxes that reveal more questions (data-reveals="id of the block"): show the
// block of each chosen one (a concern's severity question, under its checkbox). Unlike GOV.UK
// Frontend's own reveal, no aria-expanded, which a radio or checkbox may not have. Each kind has
// its own "hidden" class in GOV.UK Frontend's CSS.
const revealers = Array.from(document.querySelectorAll("input[data-reveals]"));
if (revealers.length) {
  const names = new Set(revealers.map((input) => input.name));
  const sync = () => revealers.forEach((input) => {
    const block = document.getElementById(input.dataset.reveals);
    if (block) {
      const kind = input.type === "checkbox" ? "checkboxes" : "radios";
      block.classList.toggle(`govuk-${kind}__conditional--hidden`, !input.checked);
    }
  });
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && names.has(event.target.name)) {
      sync();
    }
  });
  window.addEventListener("pageshow", sync);  // the browser may restore a choice on Back
  sync();
}

// A print button on printable summaries (without JavaScript, the browser's own print).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  document.querySelectorAll("[data-print-hint]").forEach((hint) => { hint.hidden = false; });
});
