// Move keyboard focus to what a page marks as needing attention first (an error summary after a failed submit).
document.addEventListener("DOMContentLoaded", () => {
  const target = document.querySelector("[data-focus-on-load]");
  if (target) target.focus();
});
