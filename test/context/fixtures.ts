/**
 * Cursor-marker fixtures per language (`|` is the cursor; `‸` where the code needs `|`),
 * with the scope each should get. Shared by the scope tests and the property test.
 */
import type { Scope } from '../../src/context';

export type Case = readonly [fixture: string, scope: Scope];

export const SCOPE_CASES: Readonly<Record<string, readonly Case[]>> = {
  typescript: [
    ['foo(a, |)', 'expression'],
    ['const xs = [1, 2, |];', 'expression'],
    ['function add(a: number, b: number) {|}', 'block'],
    ['class A {\n  m() {\n    |\n  }\n}', 'block'],
    ['function f() {\n  const a = 1;\n  |\n  return a;\n}', 'statement'],
    ['const total = |', 'line'],
    ['// compute the |', 'line'],
    ['const s = "hel|lo";', 'line'],
  ],
  typescriptreact: [
    ['const el = <div onClick={() => handle(|)} />;', 'expression'],
    ['function App() {\n  |\n}', 'block'],
    ['function App() {\n  const [a, setA] = useState(0);\n  |\n  return <div />;\n}', 'statement'],
    ['const title = |', 'line'],
    ['const el = <div className="ro|w" />;', 'line'],
  ],
  javascript: [
    ['console.log(|);', 'expression'],
    ['const o = { a: 1, |};', 'expression'],
    ['items.forEach((item) => {|});', 'block'],
    ['if (ok) {\n  run();\n  |\n}', 'statement'],
    ['let count = |', 'line'],
    ['const re = /ab|c/;', 'line'],
  ],
  javascriptreact: [
    ['const b = <Button label={fmt(|)} />;', 'expression'],
    ['const b = <Button onClick={() => {|}} />;', 'block'],
    ['function C() {\n  useEffect(() => {});\n  |\n}', 'statement'],
    ['const name = |', 'line'],
    ['const b = <p>{/* note |*/}</p>;', 'line'],
  ],
  python: [
    ['print(|)', 'expression'],
    ['xs = [1, 2, |]', 'expression'],
    ['def f(x):\n    |\n', 'block'],
    ['class A:\n    def m(self):\n        |\n', 'block'],
    ['def f(x):|', 'block'],
    ['def f(x):\n    y = x + 1\n    |\n    return y\n', 'statement'],
    ['x = |', 'line'],
    ['# TODO: |', 'line'],
    ['s = "ab|c"', 'line'],
  ],
  go: [
    ['package main\n\nfunc main() {\n\tfmt.Println(|)\n}\n', 'expression'],
    ['package main\n\nfunc main() {\n\ts := []int{1, 2, |}\n}\n', 'expression'],
    ['package main\n\nfunc add(a, b int) int {|}\n', 'block'],
    ['package main\n\nfunc main() {\n\tx := 1\n\t|\n\tfmt.Println(x)\n}\n', 'statement'],
    ['package main\n\nfunc main() {\n\tx := |\n}\n', 'line'],
    ['package main\n\n// comment |\n', 'line'],
  ],
  rust: [
    ['fn main() {\n    let v = vec![1, |];\n}', 'expression'],
    ['fn add(a: i32, b: i32) -> i32 {|}', 'block'],
    ["fn f<'a>(x: &'a str) -> &'a str {\n    |\n}", 'block'],
    ['fn main() {\n    let x = 1;\n    |\n    println!("{}", x);\n}', 'statement'],
    ['fn main() {\n    let s = |\n}', 'line'],
    ['/// Docs |\nfn f() {}', 'line'],
  ],
  java: [
    ['class A {\n  void m() {\n    System.out.println(|);\n  }\n}', 'expression'],
    ['class A {\n  void m() {|}\n}', 'block'],
    ['class A {\n  void m() {\n    int x = 1;\n    |\n  }\n}', 'statement'],
    ['class A {\n  int x = |\n}', 'line'],
    ['class A {\n  String s = "a|b";\n}', 'line'],
  ],
  c: [
    ['int main(void) {\n  printf("%d\\n", |);\n}', 'expression'],
    ['int add(int a, int b) {|}', 'block'],
    ['int main(void) {\n  int x = 1;\n  |\n  return x;\n}', 'statement'],
    ['int main(void) {\n  int y = |\n}', 'line'],
    ['/* block |comment */', 'line'],
  ],
  cpp: [
    ['std::vector<int> v{1, |};', 'expression'],
    ['int main() {\n  std::cout << f(|);\n}', 'expression'],
    ['namespace n {\nvoid g() {\n  |\n}\n}', 'block'],
    ['void g() {\n  int a = 0;\n  |\n  a++;\n}', 'statement'],
    ['auto x = |', 'line'],
    ['// note |', 'line'],
  ],
  csharp: [
    ['class A {\n  void M() {\n    Console.WriteLine(|);\n  }\n}', 'expression'],
    ['class A {\n  void M() {\n    |\n  }\n}', 'block'],
    ['class A {\n  void M() {\n    var x = 1;\n    |\n  }\n}', 'statement'],
    ['class A {\n  int x = |\n}', 'line'],
    ['class A {\n  // hi |\n}', 'line'],
  ],
  ruby: [
    ['puts(|)', 'expression'],
    ['def foo\n  |\nend\n', 'block'],
    ['items.each do\n  |\nend\n', 'block'],
    ['items.each do ‸x‸\n  ‸\nend\n'.replace('‸x‸', '|x|'), 'block'],
    ['def foo\n  a = 1\n  ‸\nend\n', 'statement'],
    ['x = |', 'line'],
    ['# comment |', 'line'],
  ],
  php: [
    ['<?php\nfoo(|);\n', 'expression'],
    ['<?php\nfunction f($a) {|}\n', 'block'],
    ['<?php\nfunction f($a) {\n  $b = 1;\n  |\n}\n', 'statement'],
    ['<?php\n$x = |', 'line'],
    ['<?php\n$s = "a|b";', 'line'],
  ],
  shellscript: [
    ['x=$(ls ‸)', 'expression'],
    ['if [ -f x ]; then\n  ‸\nfi\n', 'block'],
    ['for f in *.txt; do\n  ‸\ndone\n', 'block'],
    ['f() {\n  echo a\n  ‸\n}\n', 'statement'],
    ['echo ‸', 'line'],
    ['# comment ‸', 'line'],
  ],
  css: [
    ['a { color: rgb(|); }', 'expression'],
    ['a {|}', 'block'],
    ['a {\n  color: red;\n  |\n}', 'statement'],
    ['a {\n  color: |\n}', 'line'],
    ['/* note |*/', 'line'],
  ],
};

/** The cursor marker a fixture uses. */
export function markerOf(fixture: string): string {
  return fixture.includes('‸') ? '‸' : '|';
}
