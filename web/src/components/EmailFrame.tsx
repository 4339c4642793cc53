import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { imageProxySource, proxiedImageUrl, type ImageAccess } from '../api/images.js';
import { estimateFrameHeight, frameDocument, sanitizeEmailHtml, textToHtml } from '../lib/sanitizeEmail.js';

/**
 * Shows one message's HTML safely: cleaned by an allow-list, then rendered in an iframe with
 * `sandbox=""` (no scripts, no same-origin, no forms, no popups, no navigation of the app) and its
 * own CSP (`default-src 'none'`). Remote images stay blocked until the reader asks; then they load
 * through Mailroom's image proxy only, with the message's own short-lived image token (`imageAccess`
 * is asked for one when the reader clicks "Show images", so it is fresh then).
 */
export function EmailFrame({
  html,
  text,
  title,
  maxHeight = 900,
  imageAccess,
}: {
  html: string | null;
  text?: string | null;
  title: string;
  maxHeight?: number;
  imageAccess?: () => Promise<ImageAccess | null>;
}) {
  const [access, setAccess] = useState<ImageAccess | null>(null);
  const [showImages, setShowImages] = useState(false);
  const [imagesError, setImagesError] = useState<string | null>(null);
  const show = async () => {
    setImagesError(null);
    try {
      setAccess(imageAccess ? await imageAccess() : null);
      setShowImages(true);
    } catch {
      setImagesError('The images could not be loaded. Try again.');
    }
  };
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setWidth(el.clientWidth || 640);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth || 640));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const result = useMemo(() => {
    const asText = (fellBack: boolean) => {
      const bodyHtml = textToHtml(text ?? '');
      return { doc: frameDocument({ bodyHtml }, null), bodyHtml, blocked: 0, fellBack };
    };
    if (!html) return asText(false);
    const clean = sanitizeEmailHtml(html, { allowRemoteImages: showImages, proxyUrl: (remote) => proxiedImageUrl(remote, access) });
    if (clean.unstable) return asText(true);
    return { doc: frameDocument(clean, showImages ? imageProxySource() : null), bodyHtml: clean.bodyHtml, blocked: clean.blockedImages, fellBack: false };
  }, [html, text, showImages, access]);
  const height = useMemo(() => Math.min(maxHeight, Math.max(96, estimateFrameHeight(result.bodyHtml, width))), [result.bodyHtml, width, maxHeight]);

  return (
    <div className="email-frame">
      {result.blocked > 0 && !showImages && (
        <div className="images-bar" role="note">
          <span>
            {result.blocked === 1 ? '1 remote image is' : `${result.blocked} remote images are`} hidden to protect your privacy (they can tell the sender you
            opened the email).
          </span>
          <button type="button" className="btn btn-small" onClick={() => void show()}>
            Show images
          </button>
          {imagesError && <span role="alert">{imagesError}</span>}
        </div>
      )}
      {result.fellBack && <div className="images-bar">This message's formatting could not be shown safely; showing its text instead.</div>}
      <div className="email-frame-box" ref={box} style={{ height }}>
        <iframe title={title} sandbox="" srcDoc={result.doc} referrerPolicy="no-referrer" loading="lazy" className="email-iframe" />
      </div>
    </div>
  );
}
