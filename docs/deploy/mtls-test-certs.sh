#!/usr/bin/env bash
# A test CA, a server certificate and one bank's client certificate for
# trying docs/deploy/nginx-mtls.conf (and used by tests/ops/test_mtls_nginx.py).
# Production: the client certificates come from the bank's own or a
# commercial CA; put that CA's certificate in ssl_client_certificate.
#
#   docs/deploy/mtls-test-certs.sh DIR [CLIENT_CN]
#
# Writes DIR/ca.{key,crt}, DIR/server.{key,crt} (CN and SAN localhost,
# 127.0.0.1), DIR/client.{key,crt} and prints the client certificate's
# SHA-256 fingerprint — what an API token is bound to when it is issued
# (accounts: ApiToken.client_cert_sha256, services.create_token).
set -euo pipefail
dir="${1:?usage: $0 DIR [CLIENT_CN]}"
client_cn="${2:-bank-system}"
mkdir -p "$dir"
cd "$dir"
umask 077
days=825

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days "$days" \
  -keyout ca.key -out ca.crt -subj "/C=CN/O=chanrong test CA/CN=chanrong test client CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout server.key -out server.csr \
  -subj "/C=CN/O=chanrong/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
  -days "$days" -extfile server.ext -out server.crt 2>/dev/null

openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout client.key -out client.csr \
  -subj "/C=CN/O=chanrong test bank/CN=$client_cn" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
  -days "$days" -extfile client.ext -out client.crt 2>/dev/null

rm -f server.csr client.csr server.ext client.ext ca.srl
chmod 644 ca.crt server.crt client.crt
openssl x509 -in client.crt -noout -fingerprint -sha256 | sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
