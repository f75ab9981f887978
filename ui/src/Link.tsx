import type { AnchorHTMLAttributes } from 'react';
import { navigate } from './route.ts';

/** A link the page follows itself (a modified click opens a tab); `replace` keeps the history entry. */
export function Link({
  href,
  replace = false,
  ...attributes
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; replace?: boolean }) {
  return (
    <a
      {...attributes}
      href={href}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey) return;
        e.preventDefault();
        navigate(href, replace);
      }}
    />
  );
}
