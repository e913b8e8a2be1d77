import { destinationProblem, isPrivateAddress, webhookUrlProblem } from './destination';

describe('webhook destinations', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ])('%s is private', (a) => expect(isPrivateAddress(a)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (a) => expect(isPrivateAddress(a)).toBe(false),
  );

  it.each([
    ['ftp://example.com/x', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['not a url', /absolute http\(s\) URL/],
    ['https://user:pw@example.com/', /credentials/],
  ])('refuses the form of %s', (url, message) => {
    expect(webhookUrlProblem(url)).toMatch(message);
  });

  it('refuses a host whose resolved address is loopback, and allows it when told to', async () => {
    expect(await destinationProblem('http://localhost:9/hook', false)).toMatch(
      /localhost resolves to .*private, loopback or reserved/,
    );
    expect(await destinationProblem('http://127.0.0.1:9/hook', false)).toMatch(/127\.0\.0\.1/);
    expect(await destinationProblem('http://[::1]:9/hook', false)).toMatch(/::1/);
    expect(await destinationProblem('http://localhost:9/hook', true)).toBeNull();
  });
});
