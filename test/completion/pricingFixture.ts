/**
 * Two TypeScript files for the tests of knowledge from other files (the cache model, retrieved
 * snippets): another open file whose pricing loop ends in a call to `applyLoyaltyDiscount`, and
 * the document being completed, with the same loop and `|` marking the cursor on the empty line
 * after it (after Enter).
 */

/** Another open file: the pricing loop, then a call to `applyLoyaltyDiscount`. */
export const PRICING_TS = `import { Order } from './order';

export function orderTotal(order: Order): number {
  let total = 0;
  for (const line of order.lines) {
    total += line.price * line.quantity;
  }
  const taxed = total * (1 + order.taxRate);
  return applyLoyaltyDiscount(taxed, order.customer);
}

export function lineCount(order: Order): number {
  return order.lines.length;
}
`;

/** The document: the same loop; `|` is the cursor, on the empty line after it. */
export const INVOICE_TS = `import { Order } from './order';

export function invoiceTotal(order: Order): number {
  let total = 0;
  for (const line of order.lines) {
    total += line.price * line.quantity;
  }
  const taxed = total * (1 + order.taxRate);
  |
}
`;
