// Progressive enhancement only: every form works without this file.
// 1. A submitted form disables its buttons, so a double tap on a slow phone posts once.
// 2. Chosen photos are previewed before upload.
document.addEventListener("submit", (event) => {
  const form = event.target;
  setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
});
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.type !== "file" || !input.dataset.preview) return;
  const box = document.getElementById(input.dataset.preview);
  box.replaceChildren();
  for (const file of input.files) {
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = file.name;
    box.appendChild(img);
  }
});
