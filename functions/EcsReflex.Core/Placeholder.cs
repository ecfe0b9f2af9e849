namespace EcsReflex.Core; public static class Placeholder {}
