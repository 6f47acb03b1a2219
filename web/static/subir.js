/* Upload page: drag and drop, one request per file (two at a time) with a progress bar,
   then the status of each document polled until listo / revisar / error.
   Without this script the form still works: it posts every file to /subir at once. */
(function () {
  "use strict";

  var form = document.getElementById("form-subir");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }

  var PARALLEL = 2;
  var POLL_MS = 2000;
  var FINAL = { listo: true, revisar: true, error: true };
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var input = document.getElementById("archivos");
  var zone = document.getElementById("zona-arrastre");
  var section = document.getElementById("seccion-subidas");
  var tbody = document.getElementById("lista-cuerpo");
  var button = document.getElementById("boton-subir");
  var notice = document.getElementById("aviso-js");
  var nisBlock = document.getElementById("confirmar-nis");
  var nisList = document.getElementById("avisos-nis");
  var nisBox = document.getElementById("casilla-confirmar-nis");
  var maxBytes = parseInt(form.getAttribute("data-max-mb"), 10) * 1024 * 1024;

  var waiting = [];   // rows added but not sent yet
  var queue = [];     // rows being sent, in order
  var active = 0;
  var tracked = {};   // document id -> row, until its status is final
  var pollTimer = null;

  form.classList.add("con-js");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function sizeText(bytes) { return window.tamanoTexto(bytes); }  // tamano.js

  function showNotice(text) {
    notice.textContent = text;
    notice.classList.toggle("oculto", !text);
  }

  function setStatus(row, state, label) {
    row.status.className = "estado " + state;
    row.status.textContent = label;
  }

  function setDetail(row, text) { row.detail.textContent = text || ""; }

  function setLink(row, url, number) {
    row.doc.textContent = "";
    var a = el("a", "", number);
    a.href = url;
    row.doc.appendChild(a);
  }

  function addFiles(files) {
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var tr = el("tr");
      var name = el("td", "nombre-archivo", file.name + " (" + sizeText(file.size) + ")");
      name.title = file.name;
      var progressCell = el("td");
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      progressCell.appendChild(bar);
      var statusCell = el("td");
      var status = el("span", "estado", "En espera");
      statusCell.appendChild(status);
      var doc = el("td", "", "—");
      var detail = el("td");
      tr.appendChild(name); tr.appendChild(progressCell); tr.appendChild(statusCell);
      tr.appendChild(doc); tr.appendChild(detail);
      tbody.appendChild(tr);
      waiting.push({ file: file, bar: bar, status: status, doc: doc, detail: detail });
    }
    section.classList.remove("oculto");
    updateButton();
  }

  function updateButton() {
    button.textContent = waiting.length ? "Subir " + waiting.length +
      (waiting.length === 1 ? " archivo" : " archivos") : "Subir";
  }

  function nisProblem(text) {
    var parts = text.split(/[,;\s]+/);
    for (var i = 0; i < parts.length; i++) {
      var digits = parts[i].replace(/[.\-]/g, "");
      if (parts[i] && !/^\d{5,12}$/.test(digits)) {
        return "«" + parts[i] + "» no es un NIS válido: debe tener entre 5 y 12 dígitos.";
      }
    }
    return "";
  }

  function start() {
    var fields = {
      tipo: document.getElementById("tipo").value,
      nis: document.getElementById("nis").value,
      notas: document.getElementById("notas").value
    };
    var problem = nisProblem(fields.nis);
    if (problem) { showNotice(problem); return; }
    if (!waiting.length) { showNotice("Elija o arrastre al menos un archivo."); return; }
    showNotice("");
    if (!fields.nis.trim()) { fields.confirmar = ""; enqueue(fields); return; }
    checkNis(fields, function (confirmed) {
      fields.confirmar = confirmed;
      enqueue(fields);
    });
  }

  // Doubtful NIS (wrong length, not in the registry) are sent only once the person ticks the box
  // for exactly those numbers; the server checks the same key (confirmar_nis).
  function checkNis(fields, go) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", form.getAttribute("data-nis-url") + "?nis=" + encodeURIComponent(fields.nis));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (xhr.status !== 200 || !answer) {
        showNotice(answer && answer.mensaje ? answer.mensaje : "No se pudo revisar el NIS; intente de nuevo.");
        return;
      }
      if (!answer.avisos.length) { nisBlock.classList.add("oculto"); go(""); return; }
      if (nisBox.checked && nisBox.value === answer.clave) { go(answer.clave); return; }
      nisList.textContent = "";
      answer.avisos.forEach(function (w) { nisList.appendChild(el("li", "", w.mensaje)); });
      nisBox.value = answer.clave;
      nisBox.checked = false;
      nisBlock.classList.remove("oculto");
    };
    xhr.onerror = function () { showNotice("No se pudo revisar el NIS: revise la conexión."); };
    xhr.send();
  }

  function enqueue(fields) {
    while (waiting.length) {
      var row = waiting.shift();
      row.fields = fields;
      setStatus(row, "", "En cola");
      queue.push(row);
    }
    updateButton();
    pump();
  }

  function pump() {
    while (active < PARALLEL && queue.length) {
      send(queue.shift());
    }
  }

  function finishSend() {
    active -= 1;
    pump();
    schedulePoll();
  }

  function send(row) {
    if (row.file.size > maxBytes) {
      row.bar.value = 0;
      setStatus(row, "error", "Rechazado");
      setDetail(row, "Supera el tamaño máximo de " + Math.round(maxBytes / 1024 / 1024) + " MB.");
      return;
    }
    active += 1;
    setStatus(row, "procesando", "Enviando");
    var data = new FormData();
    data.append("archivo", row.file, row.file.name);
    data.append("tipo", row.fields.tipo);
    data.append("nis", row.fields.nis);
    data.append("notas", row.fields.notas);
    data.append("confirmar_nis", row.fields.confirmar || "");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-archivo-url"));
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { row.bar.value = Math.round(event.loaded * 100 / event.total); }
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if ((xhr.status === 200 || xhr.status === 202) && answer) {
        row.bar.value = 100;
        setLink(row, answer.url, answer.numero);
        setStatus(row, answer.estado, answer.estado_texto);
        setDetail(row, answer.duplicado ? "Ya estaba archivado como " + answer.numero + "." : "");
        if (!FINAL[answer.estado]) { tracked[answer.id] = row; }
      } else {
        setStatus(row, "error", "Rechazado");
        if (answer && answer.mensaje) {
          setDetail(row, answer.mensaje);
        } else if (xhr.status === 401 || xhr.status === 400) {
          setDetail(row, "La sesión venció; recargue la página e ingrese de nuevo.");
        } else {
          setDetail(row, "El servidor respondió con el error " + xhr.status + ".");
        }
      }
      finishSend();
    };
    xhr.onerror = function () {
      setStatus(row, "error", "Sin enviar");
      setDetail(row, "No se pudo enviar: revise la conexión e intente de nuevo.");
      finishSend();
    };
    xhr.send(data);
  }

  function schedulePoll() {
    if (pollTimer === null && Object.keys(tracked).length) {
      pollTimer = window.setTimeout(poll, POLL_MS);
    }
  }

  function poll() {
    pollTimer = null;
    var ids = Object.keys(tracked);
    if (!ids.length) { return; }
    var xhr = new XMLHttpRequest();
    xhr.open("GET", form.getAttribute("data-estado-url") + "?ids=" + ids.join(","));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) {
        var answer = JSON.parse(xhr.responseText);
        answer.documentos.forEach(function (d) {
          var row = tracked[d.id];
          if (!row) { return; }
          setStatus(row, d.estado, d.estado_texto);
          if (d.estado === "error") {
            setDetail(row, d.error || "");
          } else if (d.estado === "revisar") {
            setDetail(row, d.motivos.map(function (m) { return m.texto; }).join("; "));
          } else if (d.estado === "listo") {
            setDetail(row, d.paginas + (d.paginas === 1 ? " página" : " páginas") +
              (d.nis.length ? " · NIS " + d.nis.join(", ") : ""));
          }
          if (d.final) { delete tracked[d.id]; }
        });
      }
      schedulePoll();
    };
    xhr.onerror = schedulePoll;
    xhr.send();
  }

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("encima");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.remove("encima");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files) { addFiles(event.dataTransfer.files); }
  });
  // A file dropped beside the zone must not make the browser leave the page to open it.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) { event.preventDefault(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    start();
  });
}());
