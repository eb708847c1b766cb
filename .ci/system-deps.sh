#!/usr/bin/env bash
# Debian packages the tests use as real peers: Dovecot (IMAP), Tesseract (OCR), Chromium (browser tests).
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail

PACKAGES=(dovecot-imapd tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym tesseract-ocr-osd chromium chromium-driver
          fonts-dejavu-core poppler-utils)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
