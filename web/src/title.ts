import { useEffect } from 'preact/hooks';

export const PRODUCT_NAME = 'PaddleCloud';

/** "Status" -> "Status · PaddleCloud". */
export function pageTitle(title: string): string {
  return title ? `${title} · ${PRODUCT_NAME}` : PRODUCT_NAME;
}

/** Sets the document title while the calling page is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = pageTitle(title);
  }, [title]);
}
