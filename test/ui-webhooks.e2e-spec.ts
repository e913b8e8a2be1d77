import { PrismaService } from '../src/core/prisma.service';
import { ADMIN_TOKEN, useOperatorPage } from './support/operator-page';

describe('operator page: the webhooks panel', () => {
  const ui = useOperatorPage('inv_ui_webhooks');

  beforeAll(async () => {
    // A subscription given up on, with a message waiting for two minutes (no delivery runs: it
    // is disabled).
    const prisma = ui.t.app.get(PrismaService);
    await prisma.$executeRaw`
      INSERT INTO webhook_subscriptions (id, url, event_types, product_ids, secrets, enabled,
                                         disabled_reason, last_error, last_error_at)
      VALUES ('wh_ui', 'https://consumer.example.com/hook', '[]', '[]', '[]', false,
              'gave up on evt_7 after 30 attempts over 24 h; last error: HTTP 500', 'HTTP 500', now())`;
    await prisma.$executeRaw`
      INSERT INTO webhook_deliveries (subscription_id, msg_id, type, body, created_at)
      VALUES ('wh_ui', 'evt_8', 'availability.changed', '{}', now() - interval '2 minutes')`;
  });

  it('asks for the admin token, then shows each subscription with its lag and last error', async () => {
    await ui.page.goto(ui.t.baseUrl);
    await ui.page.waitForSelector('#webhooks >> text=Enter the admin token');

    await ui.page.evaluate(
      `sessionStorage.setItem('inventory-sync.admin-token', ${JSON.stringify(ADMIN_TOKEN)})`,
    );
    await ui.page.reload();
    const row = ui.page.locator('#webhooks tr[data-webhook="wh_ui"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('https://consumer.example.com/hook');
    expect(cells[1]).toBe('disabled');
    expect(cells[2]).toBe('1');
    expect(cells[3]).toMatch(/^2 ?m/);
    expect(cells[5]).toMatch(/gave up on evt_7 .* last error: HTTP 500/);
  });
});
