#!/usr/bin/env bash
# System packages the project uses beyond Python: a font with Chinese glyphs (charts, PDF
# report), Chromium (browser tests, screenshots) and poppler-utils (PDF pages to PNG).
# Installs what is missing when apt-get is available and we are root; otherwise says what to do.
set -euo pipefail
packages=()
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || packages+=(fonts-wqy-microhei)
command -v chromium >/dev/null || packages+=(chromium)
command -v pdftoppm >/dev/null || packages+=(poppler-utils)
[ ${#packages[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "please install: ${packages[*]} (Debian/Ubuntu package names); charts fall back to English labels without a CJK font" >&2
fi
