import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, expect, it } from 'vitest';
import { useDebouncedText } from './forms';

function SearchBox({ applied, onApply }: { applied: string; onApply: (text: string) => void }) {
  const [text, setText] = useDebouncedText(applied, onApply, 50);
  return <input data-testid="search" value={text} onInput={(event) => setText(event.currentTarget.value)} />;
}

const container = document.createElement('div');
afterEach(() => {
  act(() => render(null, container));
  container.remove();
});

it('useDebouncedText keeps what is typed before its effects first ran', async () => {
  document.body.appendChild(container);
  const applied: string[] = [];
  // No act(): the input comes while the effects of the first render are still pending.
  render(<SearchBox applied="" onApply={(text) => applied.push(text)} />, container);
  const input = container.querySelector<HTMLInputElement>('[data-testid="search"]')!;
  input.value = 'resnet';
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(input.value).toBe('resnet');
  expect(applied).toEqual(['resnet']);
});
