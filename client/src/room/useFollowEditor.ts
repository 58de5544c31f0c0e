/**
 * A viewer follows an editor's view by default (issue 24, item 7): someone watching a design being
 * drawn should see it as it grows, not a fixed view that the new parts leave. Stopping (the button,
 * or panning the view oneself) is respected for the rest of the visit; if the followed editor
 * leaves, the viewer follows another editor when there is one.
 */
import { useEffect, useRef } from 'react'
import type { Participant } from '../presence'

export function useFollowEditor(
  readOnly: boolean,
  people: Participant[],
  follow: number | null,
  setFollow: (id: number | null) => void,
): void {
  const declined = useRef(false)
  const followed = useRef<number | null>(null)
  useEffect(() => {
    // Following ended while the followed editor is still here: the viewer chose to stop.
    if (followed.current !== null && follow === null && people.some((p) => p.clientID === followed.current)) declined.current = true
    followed.current = follow
  }, [follow, people])
  useEffect(() => {
    if (!readOnly || declined.current || follow !== null) return
    const editor = people.find((p) => !p.self && p.user.role === 'edit')
    if (editor) setFollow(editor.clientID)
  }, [readOnly, people, follow, setFollow])
}
