/**
 * The files the soak's typist works in: five from this repository (TypeScript, Python,
 * JavaScript; those that exist) and a small Go file, under file:///soak/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './machine';

export interface SourceFile {
  uri: string;
  languageId: string;
  /** The file as it should end up; the typist re-types runs of its lines. */
  target: string;
}

/** Go has no file in this repository; a small one to type. */
const GO_FILE = `package cache

import (
	"container/list"
	"sync"
)

// LRU is a fixed-size least-recently-used cache, safe for concurrent use.
type LRU struct {
	mu       sync.Mutex
	capacity int
	order    *list.List
	items    map[string]*list.Element
}

type entry struct {
	key   string
	value []byte
}

// New returns an empty cache holding at most capacity entries.
func New(capacity int) *LRU {
	return &LRU{capacity: capacity, order: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the value for key and marks it as recently used.
func (c *LRU) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).value, true
}

// Put stores value under key, evicting the least recently used entry when full.
func (c *LRU) Put(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*entry).value = value
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.capacity {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*entry).key)
	}
	c.items[key] = c.order.PushFront(&entry{key: key, value: value})
}

// Len reports how many entries the cache holds.
func (c *LRU) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
`;

export function typistFiles(): SourceFile[] {
  const fromRepo: Array<[string, string]> = [
    ['src/engine/sampling.ts', 'typescript'],
    ['src/context/stop.ts', 'typescript'],
    ['training/model.py', 'python'],
    ['training/data.py', 'python'],
    ['esbuild.config.mjs', 'javascript'],
  ];
  const files = fromRepo
    .filter(([path]) => existsSync(join(REPO, path)))
    .map(([path, languageId]) => ({ uri: `file:///soak/${path}`, languageId, target: readFileSync(join(REPO, path), 'utf8') }));
  files.push({ uri: 'file:///soak/cache/lru.go', languageId: 'go', target: GO_FILE });
  return files;
}
