/**
 * Every top-level field of the problem file format (problems/README.md "File format") and the
 * component that shows it, so that no content of the bank is unreachable from the UI. Each of these
 * components marks what it renders with `data-field="<field>"`; fields.test.tsx checks this list
 * against the README's table and against the rendered views of real problems.
 */
export const FIELD_VIEWS: Record<string, string> = {
  id: 'parts.tsx Origin (problem page and room panel footer)',
  title: 'ProblemPage header / ProblemPanel title',
  category: 'ProblemPage header',
  difficulty: 'ProblemPage header (DifficultyBadge)',
  summary: 'ProblemPage header / ProblemPanel',
  goal: 'parts.tsx Overview',
  description: 'parts.tsx Overview',
  functional_requirements: 'parts.tsx Requirements',
  available_components: 'parts.tsx Components (and the room palette)',
  available_components_authored: 'parts.tsx Components',
  hints: 'Hints.tsx HintList (page: per browser; room: shared)',
  origin: 'parts.tsx Origin',
  targets: 'parts.tsx Requirements (TargetList)',
  non_functional_requirements: 'parts.tsx Requirements',
  constants: 'parts.tsx Constants',
  sections: 'parts.tsx TextPart (Markdown)',
  tutorial: 'Tutorial.tsx TutorialView',
  tiers: 'parts.tsx Tiers (and the room TierPanel)',
  reference_solution: 'Answer.tsx ReferenceView (and the room ghost overlay)',
  analysis: 'Answer.tsx AnalysisView',
  staff: 'parts.tsx StaffPart',
}
