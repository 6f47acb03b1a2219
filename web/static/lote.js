// Batch page: show how many stack pages are marked for moving (the form works without this).
(function () {
  "use strict";
  var out = document.getElementById("cuenta-hojas");
  if (!out) { return; }
  var boxes = document.querySelectorAll('input[name="hojas"][form="mover"]');
  function update() {
    var n = 0;
    boxes.forEach(function (b) { if (b.checked) { n += 1; } });
    out.textContent = n ? n + (n === 1 ? " hoja marcada" : " hojas marcadas") : "";
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
}());
