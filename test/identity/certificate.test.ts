import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { BACKDATE_MS, selfSignedCertificate } from '../../agent/identity/certificate.js';
import * as der from '../../agent/identity/der.js';
import { identityFromKey } from '../../agent/identity/key-store.js';
import { fingerprintOfCertificate } from '../../agent/identity/tls.js';
import { FIXED_FINGERPRINT, FIXED_KEY_PEM, FIXED_PEER_ID } from './helpers.js';

const run = promisify(execFile);
const hex = (b: Buffer) => b.toString('hex');
const NOW = Date.UTC(2026, 5, 21, 9, 30, 15);

t.test('DER encodings (X.690 examples)', async (t) => {
  t.equal(hex(der.integer(0n)), '020100');
  t.equal(hex(der.integer(127n)), '02017f');
  t.equal(hex(der.integer(128n)), '02020080', 'high bit set gets a leading zero');
  t.equal(hex(der.integer(256n)), '02020100');
  t.equal(hex(der.integer(Buffer.from([0, 0, 5]))), '020105', 'leading zeros dropped');
  t.equal(hex(der.integer(Buffer.from([0, 0x80]))), '02020080');
  t.equal(hex(der.oid('1.3.101.112')), '06032b6570');
  t.equal(hex(der.oid('2.5.29.19')), '0603551d13');
  t.equal(hex(der.oid('1.2.840.113549.1.1.11')), '06092a864886f70d01010b', 'multi-byte arcs');
  t.equal(hex(der.boolean(true)), '0101ff');
  t.equal(hex(der.nullValue()), '0500');
  t.equal(hex(der.sequence()), '3000');
  t.equal(hex(der.bitString(Buffer.from([0x80]), 7)), '03020780');
  t.equal(hex(der.octetString(Buffer.alloc(200))).slice(0, 6), '0481c8', 'long form length');
  t.equal(hex(der.octetString(Buffer.alloc(300))).slice(0, 8), '0482012c');
  t.equal(der.utcTime(new Date(NOW)).subarray(2).toString(), '260621093015Z');
  t.equal(der.generalizedTime(new Date(Date.UTC(9999, 11, 31, 23, 59, 59))).subarray(2).toString(), '99991231235959Z');
  t.equal(der.x509Time(new Date(Date.UTC(2050, 0, 1)))[0], 0x18, 'GeneralizedTime from 2050');
  t.equal(der.x509Time(new Date(Date.UTC(2049, 11, 31)))[0], 0x17, 'UTCTime through 2049');
  t.equal(hex(der.explicit(0, der.integer(2n))), 'a003020102');
  t.equal(hex(der.implicitPrimitive(2, Buffer.from('ab'))), '82026162');
  t.equal(hex(der.set(Buffer.from([0x02, 0x01, 0x09]), Buffer.from([0x02, 0x01, 0x01]))), '3106020101020109', 'SET OF sorted');
  t.throws(() => der.oid('3.1'));
  t.throws(() => der.printableString('a_b'));
  t.throws(() => der.utcTime(new Date(Date.UTC(2050, 0, 1))));
});

t.test('Node parses the certificate and its self-signature verifies', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const cert = selfSignedCertificate(privateKey, { commonName: 'tabcdefghijklmnopqrstuv', now: NOW });
  const x509 = new X509Certificate(cert.pem);
  t.ok(x509.verify(publicKey), 'signed by its own key');
  t.notOk(x509.verify(generateKeyPairSync('ed25519').publicKey), 'not by another');
  t.equal(x509.subject, 'CN=tabcdefghijklmnopqrstuv');
  t.equal(x509.issuer, 'CN=tabcdefghijklmnopqrstuv');
  t.equal(x509.subjectAltName, 'DNS:tabcdefghijklmnopqrstuv');
  t.equal(x509.ca, false);
  t.same(x509.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'extended key usage');
  t.equal(new Date(x509.validFrom).getTime(), NOW - BACKDATE_MS);
  t.equal(x509.validTo, 'Dec 31 23:59:59 9999 GMT');
  t.ok(x509.publicKey.equals(publicKey));
  t.same(new X509Certificate(cert.der).raw, cert.der, 'DER and PEM are the same certificate');
  t.match(x509.serialNumber, /^[0-7][0-9A-F]{31}$/, 'positive 16-byte serial');
});

t.test('serials are random; a given serial is encoded as given', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const a = new X509Certificate(selfSignedCertificate(privateKey, { commonName: 'ta', now: NOW }).der);
  const b = new X509Certificate(selfSignedCertificate(privateKey, { commonName: 'ta', now: NOW }).der);
  t.not(a.serialNumber, b.serialNumber);
  const fixed = new X509Certificate(selfSignedCertificate(privateKey, { commonName: 'ta', now: NOW, serial: Buffer.from([0x01, 0x02]) }).der);
  t.equal(fixed.serialNumber, '0102');
});

t.test('openssl parses the certificate field by field', async (t) => {
  const identity = identityFromKey(createPrivateKey(FIXED_KEY_PEM), FIXED_KEY_PEM);
  const file = join(t.testdir(), 'c.pem');
  await writeFile(file, identity.certPem);
  const { stdout } = await run('openssl', ['x509', '-in', file, '-noout', '-text']);
  t.match(stdout, /Version: 3 \(0x2\)/);
  t.match(stdout, /Signature Algorithm: ED25519/);
  t.match(stdout, `Issuer: CN = ${FIXED_PEER_ID}`);
  t.match(stdout, `Subject: CN = ${FIXED_PEER_ID}`);
  t.match(stdout, /Not Before: Jan  1 00:00:00 2024 GMT/);
  t.match(stdout, /Not After : Dec 31 23:59:59 9999 GMT/);
  t.match(stdout, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  t.match(stdout, /X509v3 Key Usage: critical\s+Digital Signature\n/);
  t.match(stdout, /X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  t.match(stdout, `DNS:${FIXED_PEER_ID}`);
  // openssl checks the self-signature when the certificate is its own trust anchor.
  const verified = await run('openssl', ['verify', '-x509_strict', '-attime', String(NOW / 1000), '-CAfile', file, file]);
  t.match(verified.stdout, ': OK');
  t.equal(fingerprintOfCertificate(new X509Certificate(identity.certPem)), FIXED_FINGERPRINT);
  t.equal(fingerprintOfCertificate(identity.certDer), FIXED_FINGERPRINT);
});

t.test('fingerprintOfCertificate refuses non-Ed25519 certificates', async (t) => {
  const dir = t.testdir();
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=x', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '1']);
  const ecCert = new X509Certificate(await readFile(join(dir, 'c')));
  t.throws(() => fingerprintOfCertificate(ecCert), /expected an Ed25519 key/);
});

t.test('selfSignedCertificate checks its inputs', async (t) => {
  t.throws(() => selfSignedCertificate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { commonName: 'ta', now: NOW }), TypeError);
  t.throws(() => selfSignedCertificate(generateKeyPairSync('ed25519').privateKey, { commonName: 'not a label', now: NOW }), RangeError);
});

t.test('the identity certificate is a pure function of the key (a shared broker\'s CA file lists it once)', async (t) => {
  const key = createPrivateKey(FIXED_KEY_PEM);
  const a = identityFromKey(key, FIXED_KEY_PEM);
  const b = identityFromKey(key, FIXED_KEY_PEM);
  t.equal(a.certPem, b.certPem);
  const other = generateKeyPairSync('ed25519').privateKey;
  const c = identityFromKey(other, other.export({ type: 'pkcs8', format: 'pem' }) as string);
  t.not(new X509Certificate(c.certPem).serialNumber, new X509Certificate(a.certPem).serialNumber, 'serials differ between keys');
});
