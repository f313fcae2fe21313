// The trail of pages above the current one: "Job Dashboard / mnist-2", "All files / Datasets / mnist".
import type { VNode } from 'preact';

export interface Crumb {
  label: string;
  href: string;
}

/** Links to each of `items` but the last, which is the current page. */
export function Breadcrumbs({ items, label = 'Breadcrumb' }: { items: readonly Crumb[]; label?: string }): VNode {
  return (
    <nav class="crumbs" aria-label={label} data-testid="breadcrumbs">
      <ol class="crumbs__list">
        {items.map((item, index) => (
          <li class="crumbs__item" key={item.href}>
            {index === items.length - 1 ? (
              <span aria-current="page" data-testid="crumb-current">
                {item.label}
              </span>
            ) : (
              <a href={item.href} data-testid="crumb">
                {item.label}
              </a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}
