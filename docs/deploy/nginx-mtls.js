// SHA-256 fingerprint of the verified client certificate, for
// X-SSL-Client-Fingerprint (nginx's own $ssl_client_fingerprint is SHA-1).
// Loaded by docs/deploy/nginx-mtls.conf (js_import / js_set; Debian package
// libnginx-mod-http-js). Lowercase hex without colons, as
// chanrong.accounts.services.tokens.normalise_fingerprint compares it.
const crypto = require('crypto');

function fingerprint(r) {
    const pem = r.variables.ssl_client_raw_cert;
    if (!pem || r.variables.ssl_client_verify !== 'SUCCESS') {
        return '';
    }
    const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    return crypto.createHash('sha256').update(Buffer.from(body, 'base64')).digest('hex');
}

export default { fingerprint };
