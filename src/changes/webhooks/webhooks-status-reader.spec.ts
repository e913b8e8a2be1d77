import { destinationOf } from './webhooks-status-reader';

describe('destinationOf (a subscription as the open status shows it)', () => {
  it.each([
    ['https://hooks.example.com/in?token=s3cret', 'https://hooks.example.com'],
    ['https://user:pw@hooks.example.com:8443/a/b', 'https://hooks.example.com:8443'],
    ['http://127.0.0.1:4000/hook', 'http://127.0.0.1:4000'],
    ['not a url', '(unreadable URL)'],
  ])('shows %s as %s', (url, shown) => {
    expect(destinationOf(url)).toBe(shown);
  });
});
