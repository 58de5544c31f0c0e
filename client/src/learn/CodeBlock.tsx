/**
 * A fenced code block of the problem text. A block in a language the bank uses is highlighted once
 * the highlighter (loaded on first use) is there; until then, and for every other block (ASCII
 * diagrams, arithmetic, fences without a language), it is plain monospaced text.
 */
import { useEffect, useState, type ReactNode } from 'react'
import { languageOf } from './languages'

type Highlight = (lang: string, code: string) => ReactNode[] | null
let loading: Promise<Highlight> | null = null

function loadHighlighter(): Promise<Highlight> {
  loading ??= import('./highlighter').then((m) => m.highlight)
  return loading
}

export function CodeBlock({ lang, code }: { lang: string | null; code: string }) {
  const known = lang !== null && languageOf(lang) !== null
  const [tokens, setTokens] = useState<{ for: string; nodes: ReactNode[] } | null>(null)
  useEffect(() => {
    if (!known || lang === null) return
    let live = true
    loadHighlighter()
      .then((highlight) => {
        const nodes = highlight(lang, code)
        if (live && nodes) setTokens({ for: `${lang}\n${code}`, nodes })
      })
      // Without the highlighter the block stays readable as plain text: nothing to tell the reader.
      .catch((e: unknown) => console.warn('syntax highlighting unavailable', e))
    return () => {
      live = false
    }
  }, [known, lang, code])
  const current = tokens && tokens.for === `${lang}\n${code}` ? tokens.nodes : null
  return (
    <code
      className={lang ? `language-${lang}${known ? ' hljs' : ''}` : undefined}
      data-highlighted={current ? 'yes' : known ? 'pending' : undefined}
    >
      {current ?? code}
    </code>
  )
}
