import { describe, expect, it } from 'vitest';

import { codeSoFar } from '../../src/generate';

describe('codeSoFar', () => {
  it('takes the body of a finished fenced block, without the closing newline', () => {
    expect(codeSoFar('Here:\n```python\nx = 1\nprint(x)\n```\nDone.')).toBe('x = 1\nprint(x)');
  });

  it('streams the body of a block that is still open', () => {
    expect(codeSoFar('```python\nprint(sor')).toBe('print(sor');
  });

  it('shows nothing while only the opening fence has arrived', () => {
    expect(codeSoFar('``')).toBe('');
    expect(codeSoFar('```pyth')).toBe('');
  });

  it('accepts fences without a language or with trailing spaces', () => {
    expect(codeSoFar('```\ny = 2\n```')).toBe('y = 2');
    expect(codeSoFar('```python  \nz = 3\n```')).toBe('z = 3');
  });

  it('keeps the first block when the answer has several', () => {
    expect(codeSoFar('```python\na = 1\n```\n```python\nb = 2\n```')).toBe('a = 1');
  });

  it('returns plain text as code when the model sent no fence', () => {
    expect(codeSoFar('x = 1')).toBe('x = 1');
  });
});
