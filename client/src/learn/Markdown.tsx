/**
 * Problem text rendered as Markdown (headings, lists, GFM tables, fenced code highlighted by its
 * language, ASCII diagrams kept monospaced and plain). react-markdown builds React elements from the
 * syntax tree and never injects HTML: raw HTML in the text is dropped (`skipHtml`), and links keep
 * only http(s) and in-page targets.
 */
import ReactMarkdown, { type Components } from 'react-markdown'
import remarkGfm from 'remark-gfm'
import { CodeBlock } from './CodeBlock'
import './learn.css'

const SAFE_LINK = /^(https?:|#)/i

const components: Components = {
  // Headings inside a field sit below the field's own heading (h2/h3): shift them down.
  h1: ({ children }) => <h3>{children}</h3>,
  h2: ({ children }) => <h4>{children}</h4>,
  h3: ({ children }) => <h4>{children}</h4>,
  a: ({ href, children }) =>
    href && SAFE_LINK.test(href) ? (
      <a href={href} rel="noreferrer noopener" target={href.startsWith('#') ? undefined : '_blank'}>
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // Wide tables and diagrams scroll on their own instead of widening the page on a phone.
  table: ({ children }) => (
    <div className="md-scroll" tabIndex={0} role="region" aria-label="Table">
      <table>{children}</table>
    </div>
  ),
  // Only a fence with a language gets a `language-…` class; inline code and plain fences have none.
  code: ({ className, children }) => {
    const lang = /(?:^|\s)language-(\S+)/.exec(className ?? '')?.[1]
    return lang ? <CodeBlock lang={lang} code={String(children)} /> : <code>{children}</code>
  },
  pre: ({ children }) => (
    <pre className="md-pre" tabIndex={0}>
      {children}
    </pre>
  ),
}

export function Markdown({ text }: { text: string }) {
  return (
    <div className="md">
      <ReactMarkdown remarkPlugins={[remarkGfm]} skipHtml components={components} urlTransform={(u) => (SAFE_LINK.test(u) ? u : '')}>
        {text}
      </ReactMarkdown>
    </div>
  )
}
