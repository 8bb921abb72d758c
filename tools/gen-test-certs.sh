#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Make throw-away test certificates (ECDSA P-256) in DIR:
#   ca.pem/ca.key          test CA
#   server.pem/server.key  CN and SAN DNS sluice.test, IP 127.0.0.1 and 198.18.0.1, signed by ca
#   client.pem/client.key  CN producer-1, signed by ca (client-certificate tests)
#   rogue.pem/rogue.key    self-signed, CN sluice.test (must be refused everywhere)
# For tests and the demo only: never use these for anything real.
set -euo pipefail
dir=${1:?usage: gen-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=30
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -subj /CN=sluice-test-ca -days $days -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign

sign() { # name subject extensions
	key "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
		-out "$1.pem" -extfile <(printf '%s\n' "$3") 2>/dev/null
	rm -f "$1.csr"
}
sign server /CN=sluice.test \
	"subjectAltName=DNS:sluice.test,IP:127.0.0.1,IP:198.18.0.1
extendedKeyUsage=serverAuth"
sign client /CN=producer-1 "extendedKeyUsage=clientAuth"

key rogue.key
openssl req -x509 -new -key rogue.key -subj /CN=sluice.test -days $days -out rogue.pem \
	-addext subjectAltName=DNS:sluice.test
rm -f ca.srl
