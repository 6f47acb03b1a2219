// Review queue: "select all" for the bulk confirmation and a count on its button.
// The page works without this script (each checkbox posts with the form it names).
(function () {
  "use strict";
  var form = document.getElementById("seleccion");
  if (!form) { return; }
  var all = document.getElementById("marcar-todos");
  var button = document.getElementById("confirmar-seleccion");
  var count = document.getElementById("cuenta-seleccion");

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"][form="seleccion"]'));
  }

  function refresh() {
    var list = boxes();
    var chosen = list.filter(function (b) { return b.checked; }).length;
    count.textContent = chosen ? "(" + chosen + ")" : "";
    button.disabled = chosen === 0;
    all.checked = list.length > 0 && chosen === list.length;
    all.indeterminate = chosen > 0 && chosen < list.length;
  }

  all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; });
    refresh();
  });
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.name === "ids") { refresh(); }
  });
  form.addEventListener("submit", function (ev) {
    var chosen = boxes().filter(function (b) { return b.checked; }).length;
    if (!chosen || !window.confirm("¿Confirmar " + chosen + " documento(s) con sus NIS tal como están?")) {
      ev.preventDefault();
    }
  });
  refresh();
}());
