// Keyboard work for stewards: a key clicks the element marked data-key="<key>"
// (m merge, n not a duplicate, d defer, j next, k previous). Keys typed into a
// field stay in the field.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var element = document.querySelector('[data-key="' + event.key + '"]');
    if (!element) return;
    event.preventDefault();
    element.click();
  });
})();
