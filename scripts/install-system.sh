#!/usr/bin/env bash
# Install the Debian packages archivo needs, only when they are missing.
# Used by `make run` and `make test`; safe to run again.
# With --pruebas (the test path) it also installs what the tests need: Debian's Chromium and
# ChromeDriver for the end-to-end browser tests (Playwright drives /usr/bin/chromium; no
# browser is downloaded from anywhere else), and Chromium's translations, so the browser's
# own controls in the screenshots under docs/img/ read in Spanish.
set -euo pipefail

for_tests=false
for arg in "$@"; do
  case "$arg" in
    --pruebas) for_tests=true ;;
    *) echo "Uso: $0 [--pruebas]" >&2; exit 2 ;;
  esac
done

need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
tessdata_has() { ls /usr/share/tesseract-ocr/*/tessdata/"$1".traineddata >/dev/null 2>&1; }
tessdata_has spa || need+=(tesseract-ocr-spa)
tessdata_has eng || need+=(tesseract-ocr-eng)
tessdata_has osd || need+=(tesseract-ocr-osd)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || need+=(fonts-dejavu-core)
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if $for_tests; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
  [ -f /usr/lib/chromium/locales/es-419.pak ] || need+=(chromium-l10n)
  command -v node >/dev/null 2>&1 || need+=(nodejs)  # runs web/static/tamano.js in a test
fi
if [ "${ARCHIVO_EXTRA_APT:-}" != "" ]; then need+=(${ARCHIVO_EXTRA_APT}); fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Instalando paquetes del sistema: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Faltan paquetes (${need[*]}) y no hay permisos de administrador: instálelos con apt-get." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
