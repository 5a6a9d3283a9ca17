#!/bin/sh
# gen-tls.sh - make the throwaway TLS certificate and key that the
# configuration golden tests (tests/config) load.  Never a real secret:
# it is committed on purpose, for tests only.
set -eu
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout tls-key.pem -out tls-cert.pem -days 36500 \
    -subj /CN=mail.example.test \
    -addext 'subjectAltName=DNS:mail.example.test,IP:127.0.0.1' 2>/dev/null
# a second, unrelated key: the "key does not match" case
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
    -out other-key.pem 2>/dev/null
