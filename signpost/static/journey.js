// Progressive enhancement: the moment a referrer ticks a concern that means immediate danger,
// tell them to phone now. Without JavaScript the same message comes when they continue.
const warning = document.querySelector("[data-phone-now]");
if (warning) {
  const boxes = document.querySelectorAll("input[data-immediate]");
  const update = () => {
    warning.hidden = !Array.from(boxes).some((box) => box.checked);
  };
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
}
