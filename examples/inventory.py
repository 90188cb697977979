"""A small file to try completions on: press Enter at the end of a line inside a function."""
from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


@dataclass
class Inventory:
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> None:
        self.items.append(item)

    def total_value(self) -> float:
        total = 0.0
        for item in self.items:
            total += item.price * item.quantity
        return total

    def find(self, name: str) -> Item | None:
        for item in self.items:
            if item.name == name:
                return item
        return None
