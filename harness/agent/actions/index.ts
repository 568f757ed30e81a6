// Every action module registers itself on import; the agent imports this one file.
import './system.js';
