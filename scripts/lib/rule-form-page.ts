/**
 * The CRM > Routing Add / Edit rule form as a person uses it in a browser, by its labels: for the
 * browser tests and the screenshot script. Row buttons (Add row, up, down, Remove) post the form
 * to the server, which renders it back changed, so each of them waits for the new page.
 */
import type { Locator, Page } from 'playwright-core';

/** A row as shown: operator symbol, value, destination type and destination label. */
export interface RowShown {
  operator: string;
  value: string;
  type: string;
  target: string;
}

export class RuleFormPage {
  constructor(readonly page: Page) {}

  field(label: string): Locator {
    return this.page.getByLabel(label, { exact: true });
  }

  row(n: number): Locator {
    return this.page.locator('#rows tr.crm-row').nth(n - 1);
  }

  async fillRow(n: number, row: RowShown): Promise<void> {
    await this.page.getByLabel(`Operator of row ${n}`, { exact: true }).selectOption({ label: row.operator });
    // "is empty" takes no value: with the script on, its box is read-only.
    if (row.operator !== 'is empty') await this.page.getByLabel(`Value of row ${n}`, { exact: true }).fill(row.value);
    await this.page.getByLabel(`Destination type of row ${n}`, { exact: true }).selectOption({ label: row.type });
    if (row.target !== '') await this.page.getByLabel(`Destination of row ${n}`, { exact: true }).selectOption({ label: row.target });
  }

  async rowsShown(): Promise<RowShown[]> {
    const count = await this.page.locator('#rows tr.crm-row').count();
    const shown: RowShown[] = [];
    for (let n = 1; n <= count; n += 1) {
      shown.push({
        operator: await selectedLabel(this.page.getByLabel(`Operator of row ${n}`, { exact: true })),
        value: await this.page.getByLabel(`Value of row ${n}`, { exact: true }).inputValue(),
        type: await selectedLabel(this.page.getByLabel(`Destination type of row ${n}`, { exact: true })),
        target: await selectedLabel(this.page.getByLabel(`Destination of row ${n}`, { exact: true })),
      });
    }
    return shown;
  }

  addRow(): Promise<void> {
    return this.submitWith(this.page.getByRole('button', { name: 'Add row', exact: true }));
  }

  moveRowUp(n: number): Promise<void> {
    return this.submitWith(this.page.getByRole('button', { name: `Move row ${n} up`, exact: true }));
  }

  moveRowDown(n: number): Promise<void> {
    return this.submitWith(this.page.getByRole('button', { name: `Move row ${n} down`, exact: true }));
  }

  removeRow(n: number): Promise<void> {
    return this.submitWith(this.page.getByRole('button', { name: `Remove row ${n}`, exact: true }));
  }

  /** The form's visible Save button (the hidden default one only serves the Enter key). */
  save(): Promise<void> {
    return this.submitWith(this.page.locator('.crm-form-actions').getByRole('button', { name: 'Save', exact: true }));
  }

  /** Clicks a button that posts the form, and waits until the page the server answers has loaded. */
  async submitWith(button: Locator): Promise<void> {
    const loaded = this.page.waitForEvent('load');
    await button.click();
    await loaded;
  }
}

/** The text of a select's chosen option ('' when none). */
export function selectedLabel(select: Locator): Promise<string> {
  return select.evaluate((el) => {
    const s = el as unknown as { selectedIndex: number; options: ArrayLike<{ textContent: string | null }> };
    return s.selectedIndex >= 0 ? (s.options[s.selectedIndex]?.textContent ?? '').trim() : '';
  });
}
