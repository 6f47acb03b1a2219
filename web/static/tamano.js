/* File sizes for people, the twin of archive/sizes.py (same rule, same words):
   exact bytes under 1 KB («0 bytes», «1 byte», «512 bytes»), then KB/MB/GB with a
   decimal comma and one decimal («1,2 KB», «5 MB»). */
function tamanoTexto(size) {
  "use strict";
  var units = ["KB", "MB", "GB", "TB"];
  var bytes = Math.max(0, Math.floor(Number(size) || 0));
  if (bytes < 1024) { return bytes === 1 ? "1 byte" : bytes + " bytes"; }
  var value = bytes;
  var unit = units[0];
  for (var i = 0; i < units.length; i++) {
    unit = units[i];
    value = value / 1024;
    if (Math.round(value * 10) / 10 < 1024 || i === units.length - 1) { break; }
  }
  var text = value.toFixed(1).replace(".", ",");
  if (text.slice(-2) === ",0") { text = text.slice(0, -2); }
  return text + " " + unit;
}
if (typeof module !== "undefined" && module.exports) { module.exports = tamanoTexto; }
