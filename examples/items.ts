// npm run demo completes this file at two places:
// line 11 after `of ` (the model is sure) and line 19 after `= ` (it is not).
export interface Item {
  name: string;
  price: number;
  quantity: number;
}

export function totalValue(items: Item[]): number {
  let total = 0;
  for (const item of 
    total += item.price * item.quantity;
  }
  return total;
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = 
}
