import t from 'tap';
import { RegisterImage } from '../../agent/devices/block-reader.js';

t.test('a value and its scale factor count only when one request returned both', async (t) => {
  const image = new RegisterImage();
  image.set(3, 100, [1, 2, 3]);
  image.set(3, 110, [9]);
  t.equal(image.readInOneRequest([{ fc: 3, address: 100, size: 1 }, { fc: 3, address: 102, size: 1 }]), true);
  t.equal(image.readInOneRequest([{ fc: 3, address: 100, size: 1 }, { fc: 3, address: 110, size: 1 }]), false, 'two requests');
  t.equal(image.readInOneRequest([{ fc: 4, address: 100, size: 1 }]), false, 'other function code');
  t.equal(image.readInOneRequest([]), false);
});

t.test('a register two requests saw differently is never used', async (t) => {
  const image = new RegisterImage();
  image.set(3, 100, [500, 0xffff]); // W = 500 with W_SF = -1
  image.set(3, 101, [0]); // an overlapping block: the SF changed to 0 in between
  t.equal(image.readInOneRequest([{ fc: 3, address: 100, size: 1 }, { fc: 3, address: 101, size: 1 }]), false);
  t.equal(image.readInOneRequest([{ fc: 3, address: 100, size: 1 }]), true, 'the untouched register is fine on its own');
  const same = new RegisterImage();
  same.set(3, 100, [500, 0xffff]);
  same.set(3, 101, [0xffff]);
  t.equal(same.readInOneRequest([{ fc: 3, address: 100, size: 2 }]), true, 'the same contents twice is no conflict');
});
