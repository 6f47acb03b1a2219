/* Page viewer of the document page (templates/_documento_visor.html).
 *
 * The server puts the boxes of the search hits in data-cajas, in pixels of the
 * page's web image ({x, y, ancho, alto, texto}). They are drawn as absolutely
 * positioned boxes over the image, scaled by displayed width / naturalWidth,
 * and redrawn whenever the displayed size changes (load, zoom, window resize).
 * No inline script: the Content-Security-Policy forbids it.
 */
(function () {
  "use strict";

  var ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
  var FIT = 2; // index of 1 = the page fits the width of the viewer
  var STORAGE_KEY = "archivo.visor.zoom";

  var pageBox = document.getElementById("visor-pagina");
  var img = document.getElementById("visor-imagen");
  var layer = document.getElementById("visor-marcas");
  var canvas = document.getElementById("visor-lienzo");
  var scaleLabel = document.getElementById("visor-escala");
  if (!pageBox || !img || !layer || !canvas) {
    return;
  }

  var boxes = [];
  try {
    boxes = JSON.parse(pageBox.getAttribute("data-cajas") || "[]");
  } catch (e) {
    boxes = [];
  }

  var zoom = FIT;
  try {
    var saved = parseInt(window.sessionStorage.getItem(STORAGE_KEY), 10);
    if (saved >= 0 && saved < ZOOMS.length) {
      zoom = saved;
    }
  } catch (e) { /* storage disabled: start fitted */ }

  function naturalWidth() {
    return img.naturalWidth || parseInt(pageBox.getAttribute("data-ancho"), 10) || 0;
  }

  function draw() {
    var natural = naturalWidth();
    while (layer.firstChild) {
      layer.removeChild(layer.firstChild);
    }
    if (!natural || !img.clientWidth) {
      return;
    }
    var scale = img.clientWidth / natural;
    boxes.forEach(function (b) {
      var mark = document.createElement("div");
      mark.className = "visor-marca";
      mark.style.left = (b.x * scale - 2) + "px";
      mark.style.top = (b.y * scale - 2) + "px";
      mark.style.width = (b.ancho * scale + 4) + "px";
      mark.style.height = (b.alto * scale + 4) + "px";
      mark.title = b.texto; // textContent/title: never parsed as HTML
      layer.appendChild(mark);
    });
    if (scaleLabel) {
      scaleLabel.textContent = Math.round(scale * 100) + " %";
    }
  }

  function applyZoom() {
    pageBox.style.width = (ZOOMS[zoom] * 100) + "%";
    try {
      window.sessionStorage.setItem(STORAGE_KEY, String(zoom));
    } catch (e) { /* ignore */ }
    draw();
  }

  function setZoom(step) {
    zoom = step === 0 ? FIT : Math.max(0, Math.min(ZOOMS.length - 1, zoom + step));
    applyZoom();
  }

  function scrollToFirstHit() {
    var first = layer.firstChild;
    if (first && first.scrollIntoView) {
      first.scrollIntoView({block: "center", inline: "nearest"});
    }
  }

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      setZoom(parseInt(button.getAttribute("data-zoom"), 10));
    });
  });

  document.addEventListener("keydown", function (ev) {
    var target = ev.target;
    if (ev.altKey || ev.ctrlKey || ev.metaKey) {
      return;
    }
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      return;
    }
    var link = null;
    if (ev.key === "ArrowLeft") {
      link = document.getElementById("visor-anterior");
    } else if (ev.key === "ArrowRight") {
      link = document.getElementById("visor-siguiente");
    } else if (ev.key === "+" || ev.key === "=") {
      setZoom(1);
    } else if (ev.key === "-") {
      setZoom(-1);
    } else if (ev.key === "0") {
      setZoom(0);
    }
    if (link) {
      window.location.href = link.href;
    }
  });

  function afterLoad() {
    draw();
    if (boxes.length && zoom > FIT) {
      scrollToFirstHit();
    }
  }

  if (window.ResizeObserver) {
    new window.ResizeObserver(draw).observe(img);
  } else {
    window.addEventListener("resize", draw);
  }
  applyZoom();
  if (img.complete && img.naturalWidth) {
    afterLoad();
  } else {
    img.addEventListener("load", afterLoad);
  }
}());
