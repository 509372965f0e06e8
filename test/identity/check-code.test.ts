import fc from 'fast-check';
import t from 'tap';
import {
  checkCodeDigits, checkCodeMatches, checkCodeOf, formatCheckCode, isValidCheckCode, normalizeCheckCode, verhoeffDigit, verhoeffValid,
} from '../../agent/identity/check-code.js';
import { FIXED_CHECK_CODE, FIXED_FINGERPRINT } from './helpers.js';

const code = fc.stringMatching(/^\d{10}$/).map((body) => `${body}${verhoeffDigit(body)}`);

t.test('Verhoeff known answers', async (t) => {
  t.equal(verhoeffDigit('236'), 3); // the worked example in Verhoeff's scheme
  t.equal(verhoeffDigit('12345'), 1);
  t.equal(verhoeffDigit('142857'), 0);
  t.ok(verhoeffValid('2363'));
  t.notOk(verhoeffValid('2364'));
  t.ok(verhoeffValid('1428570'));
});

t.test('check code of a fixed fingerprint', async (t) => {
  t.equal(checkCodeOf(FIXED_FINGERPRINT), FIXED_CHECK_CODE);
  t.equal(checkCodeDigits(FIXED_FINGERPRINT), FIXED_CHECK_CODE.replace(/-/g, ''));
  t.ok(isValidCheckCode(FIXED_CHECK_CODE));
  t.ok(checkCodeMatches(FIXED_FINGERPRINT, FIXED_CHECK_CODE));
  t.ok(checkCodeMatches(FIXED_FINGERPRINT, ' 8188 9577 713 '), 'spaces instead of dashes');
  t.notOk(checkCodeMatches(FIXED_FINGERPRINT, '8188-9577-71'));
  t.notOk(checkCodeMatches('0'.repeat(64), FIXED_CHECK_CODE));
  t.equal(checkCodeOf('0'.repeat(64)), '0000-0000-005', 'short values are zero-padded');
  t.throws(() => checkCodeOf('xyz'));
});

t.test('format and normalize', async (t) => {
  t.equal(formatCheckCode('12345678901'), '1234-5678-901');
  t.throws(() => formatCheckCode('1234'));
  t.equal(normalizeCheckCode('1234-5678-901'), '12345678901');
  t.equal(normalizeCheckCode('1234-5678-9012'), undefined);
  t.equal(normalizeCheckCode('1234-5678-90a'), undefined);
});

t.test('property: every single-digit error is detected', async () => {
  fc.assert(fc.property(code, fc.nat(10), fc.integer({ min: 1, max: 9 }), (digits, position, delta) => {
    const i = position % 11;
    const changed = `${digits.slice(0, i)}${(Number(digits[i]) + delta) % 10}${digits.slice(i + 1)}`;
    return isValidCheckCode(formatCheckCode(digits)) && !isValidCheckCode(formatCheckCode(changed));
  }), { numRuns: 5000 });
});

t.test('property: every adjacent transposition of different digits is detected', async () => {
  fc.assert(fc.property(code, fc.nat(9), (digits, position) => {
    const i = position % 10;
    fc.pre(digits[i] !== digits[i + 1]);
    const swapped = `${digits.slice(0, i)}${digits[i + 1]}${digits[i]}${digits.slice(i + 2)}`;
    return !isValidCheckCode(swapped);
  }), { numRuns: 5000 });
});

t.test('exhaustively: transpositions of every digit pair at every position', async (t) => {
  let checked = 0;
  for (let i = 0; i < 10; i++) {
    for (let a = 0; a < 10; a++) {
      for (let b = 0; b < 10; b++) {
        if (a === b) continue;
        const body = `${'3141592653'.slice(0, i)}${a}${b}${'3141592653'.slice(i + 2)}`.slice(0, 10);
        const full = `${body}${verhoeffDigit(body)}`;
        // At i = 9 the pair is the last digit and the check digit itself.
        if (full[i] === full[i + 1]) continue;
        const swapped = `${full.slice(0, i)}${full[i + 1]}${full[i]}${full.slice(i + 2)}`;
        if (verhoeffValid(swapped)) t.fail(`transposition missed: ${full} -> ${swapped}`);
        checked++;
      }
    }
  }
  t.ok(checked > 850, `${checked} transpositions checked`);
});

t.test('property: codes of random fingerprints are valid and match only their fingerprint', async () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
    const fa = Buffer.from(a).toString('hex');
    const fb = Buffer.from(b).toString('hex');
    const ca = checkCodeOf(fa);
    return isValidCheckCode(ca) && checkCodeMatches(fa, ca) && (checkCodeDigits(fa) === checkCodeDigits(fb) || !checkCodeMatches(fb, ca));
  }));
});
